import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPage } from "./headless-chromium.ts";

// The report test relies on this checker; these make sure it can fail.
describe("checkPage", () => {
  it("reports console errors and uncaught exceptions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kaito-page-"));
    const file = join(dir, "bad.html");
    writeFileSync(
      file,
      `<!doctype html><title>bad</title><script>console.error("boom"); throw new Error("kaboom");</script>`,
    );
    const page = await checkPage(pathToFileURL(file).href, "document.title").finally(() =>
      rmSync(dir, { recursive: true, force: true }),
    );
    expect(page.value).toBe("bad");
    expect(page.errors.join("\n")).toContain("boom");
    expect(page.errors.join("\n")).toContain("kaboom");
  }, 60_000);

  it("fails, never skips, when Chromium is missing", async () => {
    await expect(checkPage("about:blank", "1", { binary: "/nonexistent/chromium" })).rejects.toThrow(
      /Chromium is not installed at \/nonexistent\/chromium: install the Debian package/,
    );
  });
});
