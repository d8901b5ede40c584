// The harness's init script (every frame of a recorded page, before the page's scripts, in the
// harness's isolated world): what the checkpoint scan cannot see after the fact.
import { watchPasswords } from "./passwords";

watchPasswords();
