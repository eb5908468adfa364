import { useEffect } from 'preact/hooks';

let firstPage = true;

/** Sets the document title and, after an in-app navigation, moves focus to the page's heading (screen readers announce it). */
export function usePage(title: string): void {
  useEffect(() => {
    document.title = `${title} · tripline`;
    if (!firstPage) document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: false });
    firstPage = false;
  }, [title]);
}
