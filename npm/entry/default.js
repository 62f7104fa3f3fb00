// Other runtimes (browsers, Deno, bundlers): the .wasm is fetched next to
// this file, with top-level await.
import init from "./edge_options.js";

await init({ module_or_path: new URL("./edge_options_bg.wasm", import.meta.url) });

export { Store } from "./hot.js";

// The edge-options Worker over a service binding or HTTP (plain JS, no wasm;
// import "edge-options/client" to ship only this).
export { EdgeOptionsClient } from "./client.js";
