// Model folders by path, or by the name of a model shipped with the package (models/<name>, e.g. nano-bloomz), so
// `--model nano-bloomz` and `rt.loadModel('nano-bloomz')` work from an installed package too.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../train/data/paths.ts';

/** A model folder, or the name of one bundled with the package (models/<name>); anything else as given. */
export function resolveModelPath(path: string): string {
  if (!path || existsSync(path) || /[\\/]/.test(path)) return path;
  const bundled = join(packageRoot(), 'models', path);
  return existsSync(join(bundled, 'config.json')) ? bundled : path;
}
