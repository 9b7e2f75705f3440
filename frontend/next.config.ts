import type { NextConfig } from "next";

// Static export for S3 + CloudFront (and `ragline dev`, which serves frontend/out).
// Everything that varies per environment (API URL, sign-in settings) is read at run time
// from /config.json, so one build serves every environment.
const nextConfig: NextConfig = {
  output: "export",
  // Every route is exported as <route>/index.html, which plain static servers (S3 website
  // hosting, CloudFront with an index rewrite, python -m http.server) serve without rewrites.
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root: import.meta.dirname },
};

export default nextConfig;
