// lambdabench's built-in Node.js runtime client: what the emulator runs for a nodejs20.x/22.x/24.x
// function when AWS's aws-lambda-ric is not installed. It loads the handler named by _HANDLER from
// LAMBDA_TASK_ROOT (file.mjs, file.cjs or file.js; ES module or CommonJS), then loops on the Runtime API
// at AWS_LAMBDA_RUNTIME_API as Lambda's Node.js runtime does: errors shaped {errorType, errorMessage,
// trace}, console lines `<ISO time>\t<request id>\t<LEVEL>\t<message>` (or JSON lines when
// AWS_LAMBDA_LOG_FORMAT is JSON); callback handlers and `context.callbackWaitsForEmptyEventLoop` as
// aws-lambda-ric 3.x runs them up to nodejs22.x, none from nodejs24.x on (as 4.x). Node's standard
// library only.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import util from "node:util";

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const BASE = "/2018-06-01/runtime";
const host = API.slice(0, API.lastIndexOf(":")).replace(/^\[|\]$/g, "");
const port = Number(API.slice(API.lastIndexOf(":") + 1));
// One kept-alive connection: the emulator's fast path answers the next request on the same socket.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT === "JSON";
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const minLevel = LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || "TRACE").toUpperCase());
let currentRequestId; // undefined outside an invocation, as Lambda prints it

function request(method, route, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: BASE + route, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// ----- logging: synchronous writes, so every line is out before the response is posted ---------------
function emit(level, args) {
  if (LEVELS.indexOf(level) < minLevel) return;
  const time = new Date().toISOString();
  const message = util.format(...args);
  let line;
  if (jsonLogs) {
    const record = { timestamp: time, level, requestId: currentRequestId, message };
    const error = args.find((a) => a instanceof Error);
    if (error) Object.assign(record, { errorType: error.name, errorMessage: error.message,
                                       stackTrace: String(error.stack).split("\n") });
    line = JSON.stringify(record);
  } else {
    // Lambda keeps one console call in one log event: its newlines become carriage returns.
    line = `${time}\t${currentRequestId}\t${level}\t${message.replace(/\n/g, "\r")}`;
  }
  fs.writeSync(1, line + "\n");
}
console.log = (...a) => emit("INFO", a);
console.info = (...a) => emit("INFO", a);
console.warn = (...a) => emit("WARN", a);
console.error = (...a) => emit("ERROR", a);
console.debug = (...a) => emit("DEBUG", a);
console.trace = (...a) => emit("TRACE", a);
console.fatal = (...a) => emit("FATAL", a);

// ----- errors as Lambda's Node.js runtime shapes them -----------------------------------------------
function shape(error) {
  if (error instanceof Error) {
    return { errorType: error.name || "Error", errorMessage: error.message,
             trace: String(error.stack || "").split("\n") };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

class Fault extends Error {
  constructor(type, message) { super(message); this.name = type; }
}

async function postInitError(error) {
  const body = shape(error);
  emit("ERROR", [`Uncaught Exception \t${JSON.stringify({ ...body, stack: body.trace, trace: undefined })}`]);
  await request("POST", "/init/error", JSON.stringify(body), { "Lambda-Runtime-Function-Error-Type": body.errorType });
  process.exit(1);
}

// ----- the handler --------------------------------------------------------------------------------
async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT;
  const spec = process.env._HANDLER || process.argv[2] || "";  // argv as aws-lambda-ric takes it
  const slash = spec.lastIndexOf("/");
  const dir = spec.slice(0, slash + 1);
  const rest = spec.slice(slash + 1);
  const dot = rest.indexOf(".");
  if (dot <= 0 || dot === rest.length - 1) throw new Fault("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const moduleName = dir + rest.slice(0, dot);
  const exportPath = rest.slice(dot + 1).split(".");
  const candidates = [".js", ".mjs", ".cjs"].map((ext) => path.resolve(taskRoot, moduleName + ext));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw new Fault("Runtime.ImportModuleError",
      `Error: Cannot find module '${moduleName}'\nRequire stack:\n- ${new URL(import.meta.url).pathname}`);
  }
  let namespace;
  try {
    namespace = await import(pathToFileURL(file).href);
  } catch (error) {
    if (error instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", `${error.name}: ${error.message}`);
    throw error;
  }
  const find = (root) => exportPath.reduce((obj, key) => (obj == null ? undefined : obj[key]), root);
  // An ES module's export, else a CommonJS module's (module.exports is the namespace's default).
  let handler = find(namespace);
  if (handler === undefined && namespace.default !== undefined) handler = find(namespace.default);
  if (typeof handler !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${moduleName}.${exportPath.join(".")} is undefined or not exported`);
  }
  if (!callbacks && handler.length >= 3 && !handler[Symbol.for("aws.lambda.runtime.handler.streaming")]) {
    throw new Fault("Runtime.CallbackHandlerDeprecated", CALLBACK_REMOVED);
  }
  return handler;
}

function contextFor(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const env = process.env;
  const clientContext = headers["lambda-runtime-client-context"];
  const identity = headers["lambda-runtime-cognito-identity"];
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    identity: identity ? JSON.parse(identity) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// Node.js 24 and later run what a handler returns or resolves to; before, a handler could also answer
// through a callback, and its answer went out once the event loop was empty (aws-lambda-ric 3.x's
// rules, which Lambda's nodejs20.x and nodejs22.x follow; 4.x, Node.js 24's client, has no callback).
const runtimeMajor = Number((/^AWS_Lambda_nodejs(\d+)\.x$/.exec(process.env.AWS_EXECUTION_ENV || "") || [])[1]);
const callbacks = !(runtimeMajor >= 24);
const CALLBACK_REMOVED = "ERROR: AWS Lambda has removed support for callback-based function handlers starting with " +
  "Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. " +
  "For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.";

// What runs when the event loop is empty: the pending answer of a handler that waits for it.
let onEmptyLoop = () => {};
process.on("beforeExit", () => onEmptyLoop());

// The answer of one invocation: resolves with the result, rejects with the error.
function runWithCallback(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      onEmptyLoop = () => {};
      if (error !== undefined && error !== null) reject(error); else resolve(result);
    };
    // A handler that neither calls back nor returns a promise answers null once the loop is empty.
    onEmptyLoop = () => settle(null, null);
    let waits = true;
    Object.defineProperty(context, "callbackWaitsForEmptyEventLoop", {
      get: () => waits, set: (value) => { waits = value; }, enumerable: true, configurable: true,
    });
    let calledBack = false;  // only the first call counts
    const callback = (error, result) => {
      if (settled || calledBack) return;
      calledBack = true;
      if ((error !== undefined && error !== null) || !waits) { settle(error, result); return; }
      // The answer waits for everything else the invocation set going (timers, sockets) to finish.
      onEmptyLoop = () => setImmediate(() => settle(null, result));
    };
    context.done = settle;
    context.succeed = (result) => settle(null, result);
    context.fail = (error) => settle(error ?? "handled");
    let returned;
    try {
      returned = handler(event, context, callback);
    } catch (error) {
      settle(error);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then(context.succeed, context.fail);
    }
  });
}

async function run(handler, event, context) {
  return callbacks ? runWithCallback(handler, event, context) : await handler(event, context);
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    await postInitError(error);
    return;
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    const context = contextFor(next.headers);
    const id = context.awsRequestId;
    currentRequestId = id;
    let event;
    try {
      event = JSON.parse(next.body.toString("utf8"));
    } catch (error) {
      event = next.body.toString("utf8");
    }
    try {
      const result = await run(handler, event, context);
      await request("POST", `/invocation/${id}/response`, result === undefined ? "null" : JSON.stringify(result));
    } catch (error) {
      const body = shape(error);
      emit("ERROR", [`Invoke Error \t${JSON.stringify({ errorType: body.errorType, errorMessage: body.errorMessage, stack: body.trace })}`]);
      await request("POST", `/invocation/${id}/error`, JSON.stringify(body),
                    { "Lambda-Runtime-Function-Error-Type": body.errorType });
    }
    currentRequestId = undefined;
  }
}

main();
