// tests/browser/steps/crew.mjs - placeholder
export default async function (t) {}
