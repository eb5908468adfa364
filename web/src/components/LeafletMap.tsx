import type L from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import type { DashboardConfig } from '../auth';
import { createMap } from '../map';

/** A Leaflet map in a Preact tree: created once; the page draws on it through `onReady`. */
export function LeafletMap({ config, label, onReady, class: className, id }: { config: DashboardConfig; label: string; onReady: (map: L.Map) => void | (() => void); class?: string; id?: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const map = createMap(element.current!, config, label);
    const cleanup = onReady(map);
    // The container may get its size after the first layout (grid, fonts).
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(element.current!);
    return () => {
      resize.disconnect();
      if (typeof cleanup === 'function') cleanup();
      map.remove();
    };
  }, []);
  return <div ref={element} id={id} class={`map ${className ?? ''}`} />;
}
