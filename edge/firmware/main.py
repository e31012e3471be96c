# Runs at every boot after boot.py. Kept tiny: everything lives in node.py so a syntax error
# there shows in the log instead of leaving the board in a reset loop without a message.
import node

node.main()
