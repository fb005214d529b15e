/** A mutation the caller got wrong (unknown id, bad name…): the admin API answers 400 with this message. */
export class MutationError extends Error {
  readonly status: number;
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'MutationError';
    this.status = status;
  }
}
