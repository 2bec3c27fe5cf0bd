// What `wal-e version` prints. It is WAL-E's version on purpose: scripts compare it, and this program
// implements WAL-E 1.1.1's interface. A test keeps it equal to package.json's version.
export const VERSION = '1.1.1';
