-- wrk script: POST pre-built requests read from a file, each thread from its own slice of the file.
-- The file (made by benchmarks/load.py) has one request per line: "<TikTok-Signature value>\t<JSON body>".
-- Env: WRK_REQUESTS_FILE (the file), WRK_PATH (the URL path), WRK_THREADS (wrk's -t, to slice the file),
-- WRK_SIGNATURE_HEADER (the header the first column goes in; empty: the request carries none).

local requests = {}
local counter = 0
local thread_index = 0

function setup(thread)
  thread:set("index", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  local path = os.getenv("WRK_PATH")
  local threads = tonumber(os.getenv("WRK_THREADS"))
  local signature_header = os.getenv("WRK_SIGNATURE_HEADER") or "TikTok-Signature"
  local lines = {}
  for line in io.lines(os.getenv("WRK_REQUESTS_FILE")) do
    lines[#lines + 1] = line
  end
  -- Thread i takes lines i, i + threads, i + 2 * threads, ...: no two threads send the same event.
  local i = index + 1
  while i <= #lines do
    local tab = lines[i]:find("\t", 1, true)
    local headers = { ["Content-Type"] = "application/json" }
    if signature_header ~= "" then
      headers[signature_header] = lines[i]:sub(1, tab - 1)
    end
    requests[#requests + 1] = wrk.format("POST", path, headers, lines[i]:sub(tab + 1))
    i = i + threads
  end
end

function request()
  counter = counter + 1
  if counter > #requests then
    counter = 1
  end
  return requests[counter]
end
