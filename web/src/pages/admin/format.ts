/** Dates as the admin reads them, in the browser's locale and time zone. */
export const day = (iso: string) => new Date(iso).toLocaleDateString();
export const moment = (iso: string) => new Date(iso).toLocaleString();
