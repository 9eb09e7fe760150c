print("mxharness")
