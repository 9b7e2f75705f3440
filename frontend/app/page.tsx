import type { Metadata } from "next";
import { AskPage } from "@/components/pages/AskPage";

export const metadata: Metadata = { title: "Ask" };

export default function Page() {
  return <AskPage />;
}
