result = [v * factor for v in values]
