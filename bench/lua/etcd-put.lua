-- etcd 3.4 JSON gateway: PUT of unique keys with 128-byte values, the same shape as put-unique.lua.
package.path = package.path .. ";" .. (os.getenv("BENCH_LUA") or "bench/lua") .. "/?.lua"
require("base64")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  value = b64(string.rep("v", 128))
  run = args[1] or tostring(os.time())
end

function request()
  counter = counter + 1
  local body = '{"key":"' .. b64("bench-" .. run .. "-" .. tid .. "-" .. counter) .. '","value":"' .. value .. '"}'
  return wrk.format("POST", "/v3/kv/put", {["Content-Type"] = "application/json"}, body)
end
