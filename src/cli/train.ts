// Placeholder until the train command lands: a clear message instead of an unknown command.
export const help = 'instructalign train: not available yet in this build';
export async function run(): Promise<number> {
  console.error('instructalign train is not implemented yet in this build');
  return 1;
}
