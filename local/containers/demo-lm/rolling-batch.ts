/**
 * LMI's rolling batch in the demo container: generations running at the same time share one batch, and a
 * failure of any of them fails every one (djl-serving `rolling_batch.py`, `stop_on_any_exception`).
 */
import { type FinishReason, type GeneratedToken, GenerationFault } from './model.ts';

/** The generations running at once; a fault in one is raised in all the others at their next token. */
export class RollingBatch {
  private readonly members = new Set<{ fault?: GenerationFault }>();

  /** The tokens of one generation as a member of the batch. @throws GenerationFault if any member fails. */
  async *join(
    tokens: AsyncGenerator<GeneratedToken, FinishReason>,
  ): AsyncGenerator<GeneratedToken, FinishReason> {
    const member: { fault?: GenerationFault } = {};
    this.members.add(member);
    try {
      for (;;) {
        let next: IteratorResult<GeneratedToken, FinishReason>;
        try {
          next = await tokens.next();
        } catch (error) {
          if (error instanceof GenerationFault) {
            for (const other of this.members) other.fault ??= error;
          }
          throw error;
        }
        if (member.fault) throw member.fault;
        if (next.done) return next.value;
        yield next.value;
      }
    } finally {
      this.members.delete(member);
      await tokens.return('length');
    }
  }
}
