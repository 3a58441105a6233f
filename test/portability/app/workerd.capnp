# workerd.capnp: serves worker.js (the esbuild bundle). Module names are the import
# specifiers esbuild left in the bundle; the wasm files come from the installed package.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "batchnorm-wasm/simd.wasm", wasm = embed "node_modules/batchnorm-wasm/build/simd.wasm"),
    (name = "batchnorm-wasm/scalar.wasm", wasm = embed "node_modules/batchnorm-wasm/build/scalar.wasm"),
  ],
  compatibilityDate = "2025-06-01",
);
