// tests/browser/steps/stats.mjs - placeholder
export default async function (t) {}
