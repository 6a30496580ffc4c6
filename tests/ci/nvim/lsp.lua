-- Headless Neovim (0.7 and later) as the editor: open a broken spec with `hawser lsp`
-- attached, wait for its diagnostics, fix both mistakes as a user would (buffer edits,
-- sent as incremental changes), and wait for the diagnostics to clear.
--
--   HAWSER=path/to/hawser RESULT=out.json nvim --headless -u NONE -i NONE -n \
--     -c 'luafile tests/ci/nvim/lsp.lua' tests/ci/nvim/broken.kdl
--
-- Writes {"before": [...], "after": [...], "encoding": "..."} to RESULT, each diagnostic as
-- {"lnum", "col", "code", "severity"} in Neovim's own terms (lines from 0, byte columns).

local hawser = os.getenv("HAWSER")
local result = os.getenv("RESULT")
local bufnr = vim.api.nvim_get_current_buf()
-- Neovim 0.7 does not know KDL.
vim.bo[bufnr].filetype = "kdl"

local function snapshot()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(out, { lnum = d.lnum, col = d.col, code = d.code, severity = d.severity })
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

local encoding = nil
local client_id = vim.lsp.start_client({
  name = "hawser",
  cmd = { hawser, "lsp" },
  root_dir = vim.fn.getcwd(),
  on_init = function(client, init)
    encoding = init and init.capabilities and init.capabilities.positionEncoding or "utf-16"
  end,
})
if not client_id then
  io.stderr:write("could not start hawser lsp\n")
  vim.cmd("cquit 1")
end
vim.lsp.buf_attach_client(bufnr, client_id)

vim.wait(20000, function() return #vim.diagnostic.get(bufnr) >= 2 end, 50)
local before = snapshot()

-- Fix the misspelt node and the secret's name, one line at a time.
for lnum, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)) do
  if line:find("replica 2", 1, true) then
    vim.api.nvim_buf_set_lines(bufnr, lnum - 1, lnum, false, { "    /* 🚀 */ replicas 2" })
  elseif line:find("db-pasword", 1, true) then
    vim.api.nvim_buf_set_lines(bufnr, lnum - 1, lnum, false, { '        DB_PASSWORD (secret)"db-password"' })
  end
end
vim.wait(20000, function() return #vim.diagnostic.get(bufnr) == 0 end, 50)
local after = snapshot()

local f = assert(io.open(result, "w"))
f:write(vim.fn.json_encode({ before = before, after = after, encoding = encoding or vim.NIL }))
f:close()
local client = vim.lsp.get_client_by_id(client_id)
if client then client.stop() end
vim.wait(3000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd("qall!")
