import { useLocation } from "preact-iso";
import { useEffect } from "preact/hooks";
import { username } from "./api";

/** A page for the signed-in only: signed out (here or in another tab), it goes to the sign-in page. */
export function useSignedIn(): boolean {
  const { route } = useLocation();
  const signedIn = username.value !== null;
  useEffect(() => {
    if (!signedIn) route("/login");
  }, [signedIn, route]);
  return signedIn;
}
