import { useLocation } from "preact-iso";
import { useCallback, useEffect, useState } from "preact/hooks";
import { networkProblem, type Problem } from "../api";
import { useSignedIn } from "../signed-in";

type Answer<T> = { data?: T; error?: Problem; response: Response };

/**
 * What a signed-in page shows: the answer of `load` (undefined while loading), its problem, and
 * `reload`. Signed out, or a sign-in the API no longer accepts, goes to the sign-in page.
 */
export function useSignedInLoad<T>(load: () => Promise<Answer<T>>, deps: unknown[] = []) {
  const { route } = useLocation();
  const signedIn = useSignedIn();
  const [data, setData] = useState<T | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | undefined>();
  // The caller names what `load` depends on.
  const reload = useCallback(async () => {
    try {
      const answer = await load();
      if (answer.response.status === 401) return route("/login");
      setProblem(answer.error);
      if (answer.data !== undefined) setData(answer.data);
    } catch (error) {
      setProblem(networkProblem(error));
    }
  }, deps);
  useEffect(() => {
    if (signedIn) void reload();
  }, [reload, signedIn]);
  return { data, problem, setProblem, reload };
}

/**
 * One API action at a time: `busy` names the running one; its problem (or a network one) is
 * kept for the page to show; `then` runs after a success.
 */
export function useAction() {
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | undefined>();
  const act = async (name: string, call: () => Promise<{ error?: Problem }>, then?: () => unknown) => {
    if (busy) return;
    setBusy(name);
    setProblem(undefined);
    try {
      const { error } = await call();
      setProblem(error);
      if (!error) await then?.();
    } catch (error) {
      setProblem(networkProblem(error));
    } finally {
      setBusy(null);
    }
  };
  return { busy, problem, act };
}
