-- etcd 3.4 JSON gateway: range reads of prefilled keys read-0..read-999; args: "serializable" for stale reads.
package.path = package.path .. ";" .. (os.getenv("BENCH_LUA") or "bench/lua") .. "/?.lua"
require("base64")
local counter = 0
local keys = {}

function init(args)
  serializable = args[1] == "serializable"
  for i = 0, 999 do keys[i] = b64("read-" .. i) end
end

function request()
  counter = counter + 1
  local body = '{"key":"' .. keys[counter % 1000] .. '"' .. (serializable and ',"serializable":true' or "") .. '}'
  return wrk.format("POST", "/v3/kv/range", {["Content-Type"] = "application/json"}, body)
end
