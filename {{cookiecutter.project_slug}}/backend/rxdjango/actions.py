"""The @action decorator: async channel methods that the browser may call."""

import inspect

ACTION_ATTRIBUTE = "_rx_action"


def action(method):
    """Mark an `async def` method of a ContextChannel as callable from the browser.

    The browser sends {"type": "action", "callId": n, "action": name, "params": [...]}
    and receives the return value, which must be JSON-serializable. The method's type
    hints describe its parameters and result to the generated TypeScript.
    """
    if not inspect.iscoroutinefunction(method):
        # The class check repeats this with the class name; this catches plain functions early.
        raise TypeError(f"@action requires an async method: declare {method.__qualname__} with `async def`")
    setattr(method, ACTION_ATTRIBUTE, True)
    return method


def is_action(value):
    return callable(value) and getattr(value, ACTION_ATTRIBUTE, False)
