/** Wait `ms`, or less if the signal aborts (resolves false then). Never waits past `deadline`. */
export function sleep(ms: number, signal?: AbortSignal, deadline?: number): Promise<boolean> {
  const wait = deadline !== undefined ? Math.min(ms, Math.max(0, deadline - Date.now())) : ms;
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, wait);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
