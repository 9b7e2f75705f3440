/**
 * Server-sent events over fetch (EventSource cannot POST or send an Authorization header).
 * `SseParser` takes the response body's text as it arrives, in chunks cut anywhere, and
 * returns the complete events ("event:" + "data:" lines ended by a blank line).
 */

export interface ServerEvent {
  event: string;
  data: string;
}

export class SseParser {
  private buffer = "";

  push(chunk: string): ServerEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, "\n");
    const events: ServerEvent[] = [];
    let end = this.buffer.indexOf("\n\n");
    while (end !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) events.push(event);
      end = this.buffer.indexOf("\n\n");
    }
    return events;
  }
}

function parseBlock(block: string): ServerEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return data.length ? { event, data: data.join("\n") } : null;
}

/**
 * Reads a fetch Response body as server-sent events, calling `onEvent` for each. Aborting
 * `signal` cancels the body (the connection closes, and the server stops the answer).
 */
export async function readEvents(
  response: Response,
  onEvent: (event: ServerEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (!response.body) throw new Error("The server sent no stream.");
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  if (signal?.aborted) cancel();
  signal?.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const event of parser.push(decoder.decode(value, { stream: true }))) onEvent(event);
  }
  for (const event of parser.push(decoder.decode() + "\n\n")) onEvent(event);
}
