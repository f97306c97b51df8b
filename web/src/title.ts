import { useEffect } from "preact/hooks";

/** Each page names itself: the tab and screen readers announce where the user is. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} — Ozekai`;
  }, [title]);
}
