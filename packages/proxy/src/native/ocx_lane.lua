-- The proxy's native lane, run by nginx's Lua module (native/lane.ts starts nginx, native/nginx-conf.ts writes its
-- configuration). A body-less GET/HEAD whose exact answer the Node engine has already worked out for this token
-- (route published on the control socket) goes straight to the upstream from here; so does an image's data (PUT or
-- a first GET of /image/v2/images/{id}/file or /stage) once the engine, asked without the body, has decided where
-- it goes (engine/describe.ts). Everything else, and every non-2xx answer to a GET/HEAD, goes to the engine
-- ("@engine"), which stays the one place that decides.

local M = {}

local routes = ngx.shared.ocx_routes
local observed = ngx.shared.ocx_observed
local balancer = require("ngx.balancer")

local MAX_OBSERVED = 200000

-- Request headers that leave a request to the engine: set at start from header-policy.ts (nginx-conf.ts).
local ENGINE_ONLY = {}

function M.engine_only_headers(names)
  ENGINE_ONLY = {}
  for i, name in ipairs(names) do ENGINE_ONLY[i] = "http_" .. name:gsub("%-", "_") end
end

-- The routing header whose value is part of a route's key (header-policy.ts ROUTE_KEY_REQUEST).
local ROUTE_KEY = "mm-service-provider"
local ROUTE_KEY_VAR = "http_mm_service_provider"

function M.route_key_header(name)
  ROUTE_KEY = name
  ROUTE_KEY_VAR = "http_" .. name:gsub("%-", "_")
end

-- The routing header's value for the route key: "" without one, nil when only the engine may answer (two header
-- lines, which the engine reads joined; a value no route is keyed by; the header spelt with "_", which nginx's
-- variable matches but the engine does not take for it).
local function route_key_value()
  if not ngx.var[ROUTE_KEY_VAR] then return "" end
  local value = ngx.req.get_headers(0)[ROUTE_KEY]
  if type(value) ~= "string" then return nil end
  if value ~= "" and (#value > 255 or value:find("[^A-Za-z0-9._-]")) then return nil end
  return value
end

-- Headers of a request body: a published route never answers a request with one, but a stream's body is nginx's to
-- frame (it sends chunked uploads on chunked).
local BODY_VARS = { http_transfer_encoding = true, http_expect = true }

-- A request the lane never answers itself: what the engine would not hand to a cached route either. For a stream
-- (`body_ok`) the headers of its body do not count.
local function engine_only(body_ok)
  local v = ngx.var
  for _, var in ipairs(ENGINE_ONLY) do
    if v[var] and not (body_ok and BODY_VARS[var]) then return true end
  end
  if not body_ok then
    local cl = v.http_content_length
    if cl and cl ~= "0" then return true end
  end
  local conn = v.http_connection
  if conn then
    conn = conn:lower()
    if conn ~= "keep-alive" and conn ~= "close" then return true end
  end
  return false
end

-- Image data: what the engine passes through untouched, so nginx may carry it once the engine has decided.
local function stream_path()
  local path = ngx.var.request_uri:match("^[^?]*")
  return path:find("^/image/v2/images/[^/]+/file$") ~= nil or path:find("^/image/v2/images/[^/]+/stage$") ~= nil
end

-- Set the route an answer from the engine or the shared memory holds; false when it is not one.
local function follow(route)
  local addr, port, host, path, remote, target, service =
    route:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
  if not addr then return false end
  -- Variables, not ngx.ctx: an upload continues in @stream, and an internal redirect clears ngx.ctx.
  local v = ngx.var
  v.ocx_addr = addr
  v.ocx_port = port
  v.ocx_service = service
  v.ocx_host = host
  v.ocx_path = path
  v.ocx_token = remote
  v.ocx_target = target
  return true
end

-- Ask the engine where this stream goes (no body: it stays unread until nginx sends it on).
local function stream(method)
  if engine_only(true) then return ngx.exec("@engine") end
  local res = ngx.location.capture("/.ocx-decide", {
    method = ngx.HTTP_GET,
    body = "",
    args = { method = method, target = ngx.var.request_uri },
  })
  if res.status ~= 200 or not res.body or not follow(res.body) then return ngx.exec("@engine") end
  if method == "PUT" then return ngx.exec("@stream") end
  -- GET/HEAD go on in this location: a non-2xx answer is the engine's, as for a published route.
end

function M.access()
  local method = ngx.req.get_method()
  local token = ngx.var.http_x_auth_token
  if method == "PUT" and token and stream_path() then
    if not route_key_value() then return ngx.exec("@engine") end
    return stream(method)
  end
  if method ~= "GET" and method ~= "HEAD" then return ngx.exec("@engine") end
  if not token or engine_only() then return ngx.exec("@engine") end
  local via = route_key_value()
  if not via then return ngx.exec("@engine") end
  -- The same key as laneKey() in lane.ts: token hash, method, routing header's value, request target.
  local key = ngx.encode_base64(ngx.sha1_bin(token)) .. " " .. method .. " " .. via .. " " .. ngx.var.request_uri
  local route = routes:get(key)
  if not route then
    if stream_path() then return stream(method) end
    return ngx.exec("@engine")
  end
  if not follow(route) then return ngx.exec("@engine") end
end

function M.balance()
  local v = ngx.var
  local ok, err = balancer.set_current_peer(v.ocx_addr, tonumber(v.ocx_port))
  if not ok then ngx.log(ngx.ERR, "native lane: no peer: ", err) end
end

-- One line per answer the lane gave, drained by the engine for its metrics and access log.
function M.log()
  local v = ngx.var
  if not v.ocx_target or v.ocx_target == "" then return end
  local upstream = v.upstream_response_time or "-"
  local line = table.concat({
    v.ocx_service, ngx.req.get_method(), v.status, v.ocx_target, v.request_time, upstream,
    (v.request_uri:match("^[^?]*")),
  }, "\t")
  local n = observed:rpush("q", line)
  if n and n > MAX_OBSERVED then
    observed:lpop("q")
    observed:incr("dropped", 1, 0)
  end
end

-- The control socket (a private Unix socket only the engine reaches).
function M.control()
  local uri = ngx.var.uri
  if uri == "/ping" then return ngx.print("ok") end
  if uri == "/drain" then
    local out = {}
    for _ = 1, 100000 do
      local line = observed:lpop("q")
      if not line then break end
      out[#out + 1] = line
    end
    local dropped = observed:get("dropped") or 0
    if dropped > 0 then observed:incr("dropped", -dropped) end
    ngx.header["x-ocx-dropped"] = tostring(dropped)
    return ngx.print(table.concat(out, "\n"))
  end
  if uri ~= "/apply" then return ngx.exit(404) end
  ngx.req.read_body()
  local body = ngx.req.get_body_data() or ""
  -- One change per line, in order: "P\tkey\tttl_ms\troute" publishes, "D\tkey" purges.
  for line in body:gmatch("[^\n]+") do
    local op = line:sub(1, 1)
    if op == "P" then
      local key, ttl, route = line:match("^P\t([^\t]+)\t(%d+)\t(.*)$")
      if key then routes:set(key, route, tonumber(ttl) / 1000) end
    elseif op == "D" then
      routes:delete(line:sub(3))
    end
  end
  return ngx.print("ok")
end

-- nginx outlives a proxy killed with SIGKILL only briefly: once the engine's process is gone, quit.
function M.watch(engine_pid)
  if ngx.worker.id() ~= 0 then return end
  local ffi = require("ffi")
  pcall(ffi.cdef, "int getppid(void); int kill(int pid, int sig);")
  local function check(premature)
    if premature then return end
    local f = io.open("/proc/" .. engine_pid .. "/stat", "r")
    if f then
      f:close()
      return
    end
    ngx.log(ngx.WARN, "native lane: the proxy process ", engine_pid, " is gone; stopping")
    ffi.C.kill(ffi.C.getppid(), 3) -- SIGQUIT to the master: graceful stop
  end
  ngx.timer.every(1, check)
end

return M
