import type { Metadata } from "next";
import { SignInCallback } from "@/components/pages/SignInCallback";

export const metadata: Metadata = { title: "Signing in" };

export default function Page() {
  return <SignInCallback />;
}
