/** The file cannot be run: talrun prints `message` and exits with `status` (126, as a shell does). */
export class ExecError extends Error {
  override name = 'ExecError';
  constructor(message: string, readonly status = 126) { super(message); }
}
