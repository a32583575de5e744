// Mocha's spec reporter plus one plain closing line ("N passed, N failed, N skipped")
// that CI systems read without knowing mocha.
const { Spec } = require("mocha").reporters;

class SpecWithSummary extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once("end", () => {
      const { passes, failures, pending } = runner.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}
module.exports = SpecWithSummary;
