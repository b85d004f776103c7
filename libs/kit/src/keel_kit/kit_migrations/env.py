from keel_kit.migrations import run_kit_env

run_kit_env()
