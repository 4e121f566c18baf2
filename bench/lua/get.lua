-- GET of prefilled keys read-0..read-999; args: a query string such as "consistency=stale" (optional).
local counter = 0

function init(args)
  query = args[1] and ("?" .. args[1]) or ""
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/kv/read-" .. (counter % 1000) .. query)
end
