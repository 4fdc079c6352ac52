-- wrk script: sends DEPTH (first script argument, default 16) requests back to back per write, HTTP/1.1 pipelining.
local depth = 16
local batch

function init(args)
  depth = tonumber(args[1]) or depth
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil)
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
