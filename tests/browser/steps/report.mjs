// tests/browser/steps/report.mjs - placeholder
export default async function (t) {}
