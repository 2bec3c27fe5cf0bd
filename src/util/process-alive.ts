// Whether a process of this host still exists: the test that lets a writer remove the temp files of a
// writer that was killed (kill -9 cannot be caught).
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
