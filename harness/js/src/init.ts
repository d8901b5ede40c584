// The harness's init script (every frame of a recorded page, before the page's scripts): what the
// checkpoint scan cannot see after the fact.
import { watchPasswords } from "./passwords";

watchPasswords();
