# client = "tcp://host:port" (a Dask scheduler's address) gives the same numbers as training here.

test_that("cv_dnn() through a Dask scheduler address equals the local run", {
  skip_if_no_python()
  skip_if_not(reticulate::py_module_available("distributed"), "dask is not installed")
  distributed <- reticulate::import("distributed")
  # A scheduler and a worker kept alive for the test, reached by their TCP address only.
  cluster <- distributed$LocalCluster(n_workers = 1L, threads_per_worker = 2L,
                                      processes = FALSE, protocol = "tcp://",
                                      dashboard_address = ":0", silence_logs = 40L)
  on.exit(cluster$close(), add = TRUE)
  address <- cluster$scheduler_address
  expect_match(address, "^tcp://")
  args <- list(mpg ~ wt + hp + factor(cyl), data = mtcars, folds = 4, hidden = c(3),
               epochs = 5, seed = 2, verbose = 0)
  here <- do.call(cv_dnn, args)
  there <- do.call(cv_dnn, c(args, client = address))
  expect_identical(there$metrics, here$metrics)
  expect_identical(there$predictions, here$predictions)
  expect_identical(there$fits[[2]]$history, here$fits[[2]]$history)
  expect_error(cv_dnn(mpg ~ wt, data = mtcars, folds = 4, epochs = 2, client = "tcp://127.0.0.1:9"),
               "dask scheduler")
})

# Hostile addresses: stub servers on 127.0.0.1 in a thread of the embedded Python, each closing
# itself after `lifetime` seconds (so even a hang ends, and fails the expectations).
stub_server <- function(kind, lifetime = 60) {
  code <- "
import http.server, socket, struct, threading, time

def _dlstat_stub(kind, lifetime):
    if kind == 'http':
        class Quiet(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Quiet)
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
        stop = threading.Timer(lifetime, server.shutdown)
        stop.daemon = True
        stop.start()
        return server.server_address[1]
    sock = socket.create_server(('127.0.0.1', 0))
    sock.settimeout(0.1)
    def serve():
        held, end = [], time.monotonic() + lifetime
        while time.monotonic() < end:
            try:
                conn = sock.accept()[0]
            except TimeoutError:
                continue
            held.append(conn)
            if kind == 'huge':
                conn.sendall(struct.pack('Q', 2**62))
        for conn in held:
            conn.close()
        sock.close()
    threading.Thread(target=serve, daemon=True).start()
    return sock.getsockname()[1]
"
  main <- reticulate::py_run_string(code, convert = FALSE)
  port <- reticulate::py_to_r(main$`_dlstat_stub`(kind, lifetime))
  sprintf("tcp://127.0.0.1:%d", port)
}

test_that("cv_dnn() refuses hostile client addresses with a dlstat error, in bounded time", {
  skip_if_no_python()
  skip_if_not(reticulate::py_module_available("distributed"), "dask is not installed")
  cluster_module <- reticulate::import("dlstat.cluster")
  kept <- cluster_module$CONNECT_TIMEOUT
  cluster_module$CONNECT_TIMEOUT <- 3
  on.exit(cluster_module$CONNECT_TIMEOUT <- kept, add = TRUE)
  cv <- function(address) {
    cv_dnn(mpg ~ wt, data = mtcars, folds = 4, hidden = c(3), epochs = 2, verbose = 0,
           client = address)
  }
  silent <- stub_server("silent")
  err <- expect_error(cv(silent), "sent no Dask handshake within 3 s", class = "dlstat_error")
  expect_identical(err$python_type, "ClusterError")
  expect_match(conditionMessage(err), silent, fixed = TRUE)
  expect_error(cv(stub_server("huge")), "nothing was allocated", class = "dlstat_error")
  expect_error(cv(stub_server("http")), "an HTTP server answered", class = "dlstat_error")
})
