// Entry point of the bundle that bin/wal-e loads.
import { main } from './run';

void main();
