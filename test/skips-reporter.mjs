// A test reporter beside spec: at the end of the run, one line naming every test that skipped and why
// (a skip in CI is a feature not tested there).
export default async function* skips(source) {
  const skipped = [];
  for await (const event of source) {
    if (event.type === 'test:pass' && event.data.skip !== undefined) skipped.push(`${event.data.name} (${event.data.skip === true ? 'skipped' : event.data.skip})`);
  }
  yield skipped.length ? `\nskipped, ${skipped.length} test(s): ${skipped.join('; ')}\n` : '\nskipped: none\n';
}
