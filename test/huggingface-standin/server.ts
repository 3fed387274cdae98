/**
 * A loopback stand-in for the Hugging Face Hub's read endpoints, refusing what the Hub refuses
 * with the Hub's status codes and X-Error-Code headers (the ones huggingface_hub's
 * hf_raise_for_status reads, utils/_http.py). README.md lists what it models and what not.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { generateTestCertificate } from "../arm-standin/cert.ts";
import { grantedToken, standinModels, ungrantedToken, type StandinModel } from "./fixtures.ts";

export interface HuggingFaceStandinOptions {
  /** Serve HTTPS with a throwaway certificate (returned as `ca`); default HTTP. */
  https?: boolean;
  models?: readonly StandinModel[];
}

export interface HuggingFaceStandin {
  /** The base URL, e.g. http://127.0.0.1:43121: what HF_ENDPOINT / --hf-endpoint take. */
  url: string;
  /** The PEM certificate to trust, with https. */
  ca?: string;
  /** Every request so far: method and path, and whether it carried a token (never the token). */
  requests: { method: string; path: string; authenticated: boolean }[];
  close(): Promise<void>;
}

type Access = "anonymous" | "granted" | "ungranted" | "invalid";

function accessOf(req: IncomingMessage): Access {
  const header = req.headers.authorization;
  if (!header) return "anonymous";
  const token = /^Bearer (.+)$/.exec(header)?.[1];
  if (token === grantedToken) return "granted";
  if (token === ungrantedToken) return "ungranted";
  return "invalid";
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "x-request-id": `standin-${Math.random().toString(36).slice(2, 10)}`,
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : text);
}

function refuse(res: ServerResponse, status: number, code: string | undefined, message: string): void {
  send(
    res,
    status,
    { error: message },
    {
      ...(code ? { "x-error-code": code } : {}),
      "x-error-message": message,
    },
  );
}

/**
 * The Hub's answer when the repo is unknown or hidden: 401 to anonymous callers (so they cannot
 * tell private from absent), 404 to authenticated ones, X-Error-Code RepoNotFound either way.
 */
function repoNotFound(res: ServerResponse, access: Access): void {
  if (access === "invalid") return refuse(res, 401, undefined, "Invalid credentials in Authorization header");
  refuse(res, access === "anonymous" ? 401 : 404, "RepoNotFound", "Repository not found");
}

function modelInfo(m: StandinModel) {
  return {
    _id: m.sha.slice(0, 24),
    id: m.id,
    modelId: m.id,
    sha: m.sha,
    private: false,
    gated: m.gated,
    disabled: false,
    tags: ["safetensors", "text-generation"],
    pipeline_tag: "text-generation",
    config: { architectures: m.config.architectures, model_type: m.config.model_type },
    ...(m.safetensors
      ? {
          safetensors: {
            parameters: m.safetensors,
            total: Object.values(m.safetensors).reduce((a, b) => a + b, 0),
          },
        }
      : {}),
    siblings: [
      ...(Object.keys(m.config).length ? [{ rfilename: "config.json" }] : []),
      { rfilename: "README.md" },
    ],
  };
}

function handle(req: IncomingMessage, res: ServerResponse, models: readonly StandinModel[]): void {
  const url = new URL(req.url ?? "/", "http://standin");
  const access = accessOf(req);
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "Method not allowed" });
  const byId = (id: string) => models.find((m) => m.id.toLowerCase() === id.toLowerCase());

  // GET /api/models/<org>/<name>[/revision/<rev>]
  const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?\/?$/.exec(url.pathname);
  if (api) {
    // A bad token is refused whatever it asks for.
    if (access === "invalid") return repoNotFound(res, access);
    const model = byId(decodeURIComponent(api[1]!));
    if (!model) return repoNotFound(res, access);
    const rev = api[2] ? decodeURIComponent(api[2]) : "main";
    if (rev !== "main" && rev !== model.sha)
      return refuse(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    // Metadata of gated models is public; only their files are not.
    return send(res, 200, modelInfo(model));
  }

  // GET|HEAD /<org>/<name>/resolve/<rev>/<file>
  const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
  if (file) {
    const model = byId(decodeURIComponent(file[1]!));
    if (access === "invalid") return repoNotFound(res, access);
    if (!model) return repoNotFound(res, access);
    if (model.gated) {
      if (access === "anonymous")
        return refuse(
          res,
          401,
          "GatedRepo",
          `Access to model ${model.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
      if (access === "ungranted")
        return refuse(
          res,
          403,
          "GatedRepo",
          `Access to model ${model.id} is restricted and you are not in the authorized list. Visit https://huggingface.co/${model.id} to ask for access.`,
        );
    }
    const rev = decodeURIComponent(file[2]!);
    if (rev !== "main" && rev !== model.sha) return refuse(res, 404, "RevisionNotFound", "Invalid rev id");
    if (file[3] !== "config.json" || Object.keys(model.config).length === 0)
      return refuse(res, 404, "EntryNotFound", `${file[3]} does not exist on "${rev}"`);
    return send(res, 200, model.config, { "x-repo-commit": model.sha, etag: `"${model.sha.slice(0, 16)}"` });
  }
  return send(res, 404, "Not Found");
}

export async function startHuggingFaceStandin(
  o: HuggingFaceStandinOptions = {},
): Promise<HuggingFaceStandin> {
  const models = o.models ?? standinModels;
  const requests: HuggingFaceStandin["requests"] = [];
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({
      method: req.method ?? "",
      path: new URL(req.url ?? "/", "http://standin").pathname,
      authenticated: !!req.headers.authorization,
    });
    try {
      handle(req, res, models);
    } catch (e) {
      send(res, 500, { error: String(e) });
    }
  };
  const cert = o.https ? await generateTestCertificate() : undefined;
  const server: Server = cert
    ? createHttpsServer({ key: cert.key, cert: cert.cert }, listener)
    : createHttpServer(listener);
  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${cert ? "https" : "http"}://127.0.0.1:${port}`,
    ...(cert ? { ca: cert.cert } : {}),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
