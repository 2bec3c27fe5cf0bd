// Reassembles results that complete out of order: slot i is filled whenever its block finishes, and
// buffers are released to the stream strictly in block order.
export class OrderedOutput<T> {
  private readonly done = new Map<number, T>();
  private nextToEmit = 0;
  private nextToAssign = 0;

  /** Reserves the next position. */
  assign(): number {
    return this.nextToAssign++;
  }

  get inFlight(): number {
    return this.nextToAssign - this.nextToEmit;
  }

  /** Records a finished position and hands every value that is now in order to `emit`. */
  complete(position: number, value: T, emit: (value: T) => void): void {
    this.done.set(position, value);
    for (;;) {
      const v = this.done.get(this.nextToEmit);
      if (v === undefined) return;
      this.done.delete(this.nextToEmit);
      this.nextToEmit++;
      emit(v);
    }
  }
}
