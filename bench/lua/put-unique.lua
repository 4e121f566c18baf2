-- PUT of unique keys with 128-byte values: every request appends a new entry.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  body = string.rep("v", 128)
  run = args[1] or tostring(os.time())
end

function request()
  counter = counter + 1
  return wrk.format("PUT", "/kv/bench-" .. run .. "-" .. tid .. "-" .. counter, nil, body)
end

function response(status, headers, body)
  if status ~= 201 then
    errors = (errors or 0) + 1
  end
end
