"""网格呼叫、部门报到: grid workers call departments to the spot (bot/calls/actions.py is the only place a call
changes state, through bot/calls/rules.py); intake.py the call before it is sent; cards.py its cards;
parsing.py departments as people name them."""
