// Stylesheets imported for their side effect: Vite emits them as files the page links (never inline).
declare module "*.css";
