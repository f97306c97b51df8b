// Stylesheets imported for their side effect (Vite bundles them as files of our origin).
declare module "*.css";
