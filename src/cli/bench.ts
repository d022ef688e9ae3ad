// Placeholder until the bench command lands: a clear message instead of an unknown command.
export const help = 'instructalign bench: not available yet in this build';
export async function run(): Promise<number> {
  console.error('instructalign bench is not implemented yet in this build');
  return 1;
}
