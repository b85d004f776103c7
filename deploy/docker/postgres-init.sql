-- One database per service (DESIGN §6); run once by the postgres image on an empty data volume.
-- Kept identical to the postgres-init ConfigMap in deploy/k8s/postgres.yaml (the parity test checks).
CREATE DATABASE keel_order OWNER keel;
CREATE DATABASE keel_inventory OWNER keel;
CREATE DATABASE keel_fulfillment OWNER keel;
CREATE DATABASE keel_procurement OWNER keel;
CREATE DATABASE keel_returns OWNER keel;
CREATE DATABASE keel_finance OWNER keel;
CREATE DATABASE keel_console OWNER keel;
