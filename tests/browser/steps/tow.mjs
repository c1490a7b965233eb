// tests/browser/steps/tow.mjs - placeholder
export default async function (t) {}
