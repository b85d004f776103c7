// Validates AsyncAPI documents with the AsyncAPI parser (schema and its recommended rules).
// Usage: node validate.js FILE...   Prints each error and warning, counts the rest (notes such
// as "3.1.0 exists"); exits 1 on any error or warning.
"use strict";
const fs = require("fs");
const { Parser, DiagnosticSeverity } = require("@asyncapi/parser");

const SEVERITY = {
  [DiagnosticSeverity.Error]: "error",
  [DiagnosticSeverity.Warning]: "warning",
  [DiagnosticSeverity.Information]: "info",
  [DiagnosticSeverity.Hint]: "hint",
};

async function main(files) {
  const parser = new Parser();
  let failing = 0;
  for (const file of files) {
    const findings = await parser.validate(fs.readFileSync(file, "utf8"), { source: file });
    const failures = findings.filter((f) => f.severity <= DiagnosticSeverity.Warning);
    for (const finding of failures) {
      const where = finding.path.join("/") || "(document)";
      console.log(`${file}: ${SEVERITY[finding.severity]} ${finding.code}: ${finding.message} at ${where}`);
    }
    const notes = findings.length - failures.length;
    console.log(`${file}: ${failures.length} errors or warnings, ${notes} notes`);
    failing += failures.length;
  }
  return failing === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
