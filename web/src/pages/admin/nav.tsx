import { useLocation } from "preact-iso";

const SECTIONS = [
  { href: "/admin", label: "Privacy requests" },
  { href: "/admin/accounts", label: "Plans and minors" },
  { href: "/admin/policy", label: "Policy versions" },
  { href: "/admin/stats", label: "Statistics" },
];

/** The admin pages' own menu, below each one's heading. */
export function AdminNav() {
  const { path } = useLocation();
  return (
    <nav aria-label="Administration" class="subnav">
      {SECTIONS.map(({ href, label }) => (
        <a key={href} href={href} aria-current={path === href ? "page" : undefined}>
          {label}
        </a>
      ))}
    </nav>
  );
}
