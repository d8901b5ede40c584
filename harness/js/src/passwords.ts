// Password fields a page turns into text fields ("show password" buttons) are passwords all the
// same: a recorder must keep masking them. An init script (watchPasswords) remembers, per window
// and before the page's own scripts run, every field that has been a password; the checkpoint
// scan (sensitive.ts) asks wasPassword. Both run in the harness's isolated world
// (harness/capture.py): its listeners, observer and expando are out of the page's reach.

const KEY = "__rcPasswords";

type Watched = Window & { [KEY]?: WeakSet<Element> };

/** Run in every frame (its own window): remembers that frame's password fields. */
export function watchPasswords(): void {
  const seen = new WeakSet<Element>();
  Object.defineProperty(window, KEY, { value: seen }); // this world's window: the page has its own
  const mark = (target: EventTarget | undefined): void => {
    if (target instanceof HTMLInputElement && target.type === "password") seen.add(target);
  };
  // Focus and input events are composed: this sees fields inside shadow roots too.
  for (const type of ["focusin", "input"]) addEventListener(type, (e) => mark(e.composedPath()[0]), true);
  // A type switched by script, even on a field never focused (the light DOM only).
  new MutationObserver((records) => {
    for (const r of records) if (r.oldValue?.trim().toLowerCase() === "password") seen.add(r.target as Element);
  }).observe(document, { subtree: true, attributeFilter: ["type"], attributeOldValue: true });
}

/** A password field now, or one that has been one since the page loaded (or since the last scan). */
export function wasPassword(input: HTMLInputElement): boolean {
  const seen = (input.ownerDocument.defaultView as Watched | null)?.[KEY];
  if (input.type !== "password") return !!seen?.has(input);
  seen?.add(input); // remembered for later checkpoints, should a script switch it
  return true;
}
