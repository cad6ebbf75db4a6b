{{ config(enabled=var('consent_taps_gravito_enabled', true)) }}
-- TCF vendor consent per domain (Gravito's decoded TC strings).
{{ tcf_consent('vendors_consented', 'vendors_legitimate_interest', 'vendor_id') }}
